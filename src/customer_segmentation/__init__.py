"""customer-segmentation: customer data in, actionable customer segments out."""

import logging
import warnings

__version__ = "0.1.0"

# PySpark (installed for `kedro run --env spark`) warns on import that it does not fully support
# pandas 3, and pandera imports it whenever it is installed, so every run would print it. The spark
# environment's own pandas conversions are covered by tests/test_spark.py (README: On Apache Spark).
warnings.filterwarnings(
    "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
)


# kedro-mlflow defines its pipeline model (unused here) without the type hints MLflow 3 asks of a
# PythonModel, so importing the plugin, on every `kedro` command, would log this advice. MLflow shows
# it under its own "once" warning filter, so it is dropped where Kedro logs warnings (py.warnings).
class _WithoutMlflowTypeHintAdvice(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "Add type hints to the `predict` method" not in record.getMessage()


logging.getLogger("py.warnings").addFilter(_WithoutMlflowTypeHintAdvice())
# Python warnings go through logging (conf/logging.yml: one record per line), where the filter applies.
logging.captureWarnings(True)
