"""The review app: check a transcript against its recording in the browser, fix it.

An application over the library (like ``flows/``): ``pipeline`` never imports it.
``qscribe review`` (``make review``) starts :func:`review.server.serve` on 127.0.0.1.
"""
