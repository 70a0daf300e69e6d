"""Configuration environments: each one writes under a data root of its own.

`kedro run --env <name>` layers `conf/<name>/` over `conf/base/`. `ProjectConfigLoader` adds two
values to the merged `globals` that every catalog entry and parameter can use:

- `environment`: the environment's name (`local` for plain `kedro run`, Kedro's default run
  environment);
- `data_root`: where the environment's runs write (02_intermediate … 08_reporting, the run records,
  the run lock): `data` for the default environment, `data/<name>` for every other one. Raw inputs stay
  where the user put them (`data/01_raw/`, named in globals.yml), so they are shared.

An environment may set `data_root` in its own `globals.yml` to share another environment's outputs on
purpose: `conf/shifted` scores a later batch with the default environment's model, so it says
`data_root: data`. Nothing else is shared, so no environment reads another's model, profiles or
previous segmentation by accident.
"""

from __future__ import annotations

from typing import Any

from kedro.config import OmegaConfigLoader

DEFAULT_DATA_ROOT = "data"


def data_root_for(environment: str, default_environment: str = "local") -> str:
    """The folder (relative to the project) the environment's runs write under."""
    if environment == default_environment:
        return DEFAULT_DATA_ROOT
    return f"{DEFAULT_DATA_ROOT}/{environment}"


class ProjectConfigLoader(OmegaConfigLoader):
    """Kedro's `OmegaConfigLoader`, with `environment` and `data_root` in the merged `globals`
    (values the environment's own globals.yml sets win)."""

    @property
    def environment(self) -> str:
        return self.env or self.default_run_env or "local"

    def __getitem__(self, key: str) -> dict[str, Any]:
        config = super().__getitem__(key)
        if key == "globals":
            derived = {
                "environment": self.environment,
                "data_root": data_root_for(self.environment, self.default_run_env or "local"),
            }
            config = {**derived, **config}
        return config
