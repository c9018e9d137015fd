"""The small core every layer builds on: settings, the registry's vocabulary, geography."""
import pandas as pd

# With pyarrow installed pandas would back every "string" column with Arrow, where Series.map turns Python
# lists and sets into Arrow lists: the code relies on Python objects, so "string" stays Python-backed and the
# ETL's hot text paths use Arrow explicitly (etl/readers.py, etl/values.py).
pd.set_option("mode.string_storage", "python")
