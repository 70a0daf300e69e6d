"""customer-segmentation: customer data in, actionable customer segments out."""

import logging
import os
import warnings

__version__ = "0.1.0"

# scikit-learn's K-Means runs on OpenMP threads, which by default spin on a core while they wait for
# work. On a machine busy with other work (a second run, the scoring service, a test suite) the
# spinning threads take the cores from the processes doing work: three runs at once on two cores took
# 2.2 x the CPU time (benchmarks/README.md). Passive waiting costs nothing on an idle machine. Set here,
# before scikit-learn loads its OpenMP runtime; an OMP_WAIT_POLICY set by the user is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

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
