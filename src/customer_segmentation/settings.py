"""Project settings: the Kedro defaults plus soft-merged parameters across environments.

`kedro run --env <name>` layers `conf/<name>/` over `conf/base/`. With the soft merge an environment
that overrides one parameter keeps every other parameter of the same group from `base`.
`ProjectContext` lets the pipeline registry start the workflow from an order log when the
environment's catalog declares one (conf/transactions), and build the workflow for Spark tables when
the raw customers are a Spark dataset (conf/spark, whose `spark.yml` `SparkHooks` turns into a session).
"""

from kedro.config import OmegaConfigLoader

from customer_segmentation.context import ProjectContext
from customer_segmentation.hooks import SparkHooks

HOOKS = (SparkHooks(),)
CONTEXT_CLASS = ProjectContext
CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "merge_strategy": {"parameters": "soft", "globals": "soft"},
    "config_patterns": {"spark": ["spark*", "spark*/**"]},
}
