// The lecture's quiz, f(x, z) = exp(x*z) + x*z/log(x) + sin(log(x))/(x*z), in C.
//
// quiz.c and quiz.h beside this file are graphc's output, committed as printed by
//     graphc code "exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)" --backend c --kind all
//         --prefix quiz --header examples/c/quiz.h > examples/c/quiz.c
// (one command; the tests regenerate both files and fail if they drift). Build and run from
// the repository root:
//     cc -std=c99 examples/c/*.c -lm && ./a.out
// The first line printed is the gradient at x = 2, z = 3: [1208.38..., 809.70...].
#include <stdio.h>

#include "quiz.h"

int main(void)
{
    const double point[QUIZ_N_IN] = {2.0, 3.0};   /* in f.variables order: x, z */
    const char *names[QUIZ_N_IN] = QUIZ_VARIABLE_NAMES;
    double gradient[QUIZ_GRAD_N_OUT];
    double both[QUIZ_VALUE_AND_GRAD_N_OUT];       /* the value, then the gradient */
    double hessian[QUIZ_HESSIAN_N_OUT];           /* row-major */
    const double points[3 * QUIZ_N_IN] = {2.0, 3.0, 1.5, 1.0, 3.0, 2.0};
    double values[3 * QUIZ_VALUE_N_OUT];

    quiz_grad(point, gradient);
    printf("[%.17g, %.17g]\n", gradient[0], gradient[1]);

    quiz_value_and_grad(point, both);
    printf("value at %s = %g, %s = %g: %.17g\n", names[0], point[0], names[1], point[1],
           both[0]);

    quiz_hessian(point, hessian);
    printf("Hessian: [[%.17g, %.17g], [%.17g, %.17g]]\n", hessian[0], hessian[1], hessian[2],
           hessian[3]);

    quiz_value_batch(points, values, 3);           /* three points, one after another */
    printf("values at (2, 3), (1.5, 1), (3, 2): [%.17g, %.17g, %.17g]\n", values[0], values[1],
           values[2]);
    return 0;
}
