"""Project settings: the Kedro defaults plus soft-merged parameters across environments.

`kedro run --env <name>` layers `conf/<name>/` over `conf/base/`. With the soft merge an environment
that overrides one parameter keeps every other parameter of the same group from `base`.
`ProjectConfigLoader` gives every environment a data root of its own (environments.py), and
`ProjectSession` runs the workflow the environment's `globals.yml` names (session.py).
"""

from omegaconf.resolvers import oc

from customer_segmentation.datasets import ProjectDataCatalog
from customer_segmentation.environments import ProjectConfigLoader
from customer_segmentation.hooks import RunHooks, SparkHooks, TrackingHooks
from customer_segmentation.session import ProjectSession

RUNS = RunHooks()
HOOKS = (SparkHooks(), RUNS, TrackingHooks(RUNS))
SESSION_CLASS = ProjectSession
DATA_CATALOG_CLASS = ProjectDataCatalog
CONFIG_LOADER_CLASS = ProjectConfigLoader
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
