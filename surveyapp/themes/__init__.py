"""Comment understanding on the server, in Vietnamese: themes, polarity and flags
(docs/THEMES.md). Importable without Flask; the storage and counts live in ``store``."""
from .classify import Result, classify, classify_many, mentions_harassment
from .lexicon import FLAGS, POLARITIES, THEMES

__all__ = ["Result", "classify", "classify_many", "mentions_harassment", "THEMES", "POLARITIES", "FLAGS"]
