"""The compiled-function API: ``compile``, :class:`Function`, :class:`VectorFunction`, calling."""
