"""Thin Prefect flows over the pipeline stages.

Importing this package does not import Prefect: the command line first reads the
settings and points Prefect at the project's own home (see :mod:`flows.env`).
"""
