"""Project settings: the Kedro defaults plus soft-merged parameters across environments.

`kedro run --env <name>` layers `conf/<name>/` over `conf/base/`. With the soft merge an environment
that overrides one parameter keeps every other parameter of the same group from `base`.
`ProjectContext` lets the pipeline registry start the workflow from an order log when the
environment's catalog declares one (conf/transactions), and build the workflow for Spark tables when
the raw customers are a Spark dataset (conf/spark, whose `spark.yml` `SparkHooks` turns into a session).
"""

from kedro.config import OmegaConfigLoader
from omegaconf.resolvers import oc

from customer_segmentation.context import ProjectContext
from customer_segmentation.hooks import SparkHooks, TrackingHooks

HOOKS = (SparkHooks(), TrackingHooks())
CONTEXT_CLASS = ProjectContext
CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "merge_strategy": {
        "parameters": "soft",
        "globals": "soft",
        "mlflow": "soft",
        "service": "soft",
    },
    # `${oc.env:MLFLOW_TRACKING_URI,...}` in mlflow.yml: the tracking store can be pointed elsewhere
    "custom_resolvers": {"oc.env": oc.env},
    "config_patterns": {
        "spark": ["spark*", "spark*/**"],
        "mlflow": ["mlflow*", "mlflow*/**"],
        # the scoring service's request limits (`make serve`)
        "service": ["service*", "service*/**"],
    },
}
