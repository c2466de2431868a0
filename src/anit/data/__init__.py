"""The data layer: importing it registers the eight built-in datasets (and ASTE 15res/16res)."""

from anit.data import aste, classification, ner, relations  # noqa: F401  (registration)
from anit.data.base import DATASETS, DatasetSpec, Example, default_data_dir, load_examples, register_dataset

__all__ = ["DATASETS", "DatasetSpec", "Example", "default_data_dir", "load_examples", "register_dataset"]
