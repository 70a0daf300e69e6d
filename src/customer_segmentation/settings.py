"""Project settings: the Kedro defaults plus soft-merged parameters across environments.

`kedro run --env <name>` layers `conf/<name>/` over `conf/base/`. With the soft merge an environment
that overrides one parameter keeps every other parameter of the same group from `base`.
"""

from kedro.config import OmegaConfigLoader

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "merge_strategy": {"parameters": "soft", "globals": "soft"},
}
