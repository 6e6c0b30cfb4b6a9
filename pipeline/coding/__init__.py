"""Codebook pre-tagging of de-identified turns, and REFI-QDA exchange (stage ``06_codes``).

Plain functions over dataclasses and pydantic models; no Prefect here.
"""
