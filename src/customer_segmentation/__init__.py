"""customer-segmentation: customer data in, actionable customer segments out."""

import warnings

__version__ = "0.1.0"

# PySpark (installed for `kedro run --env spark`) warns on import that it does not fully support
# pandas 3, and pandera imports it whenever it is installed, so every run would print it. The spark
# environment's own pandas conversions are covered by tests/test_spark.py (README: On Apache Spark).
warnings.filterwarnings(
    "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
)
