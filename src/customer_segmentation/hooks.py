"""Project hooks: a SparkSession for environments that declare one (`conf/spark/spark.yml`).

Environments without a `spark*.yml` (every one but `spark`) start no Spark and need no Java. With
`SPARK_REMOTE` set (Spark Connect, e.g. `sc://host:15002`) the session connects there and the
`spark.master` of the file is not used; otherwise `spark.master` says where to run (`local[2]`, or a
standalone cluster's `spark://host:7077`).
"""

from __future__ import annotations

import logging
import os
import sys

from kedro.config import MissingConfigException
from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl

logger = logging.getLogger(__name__)


class SparkHooks:
    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        """Start (or join) the SparkSession the Spark datasets and nodes use."""
        try:
            settings = dict(context.config_loader["spark"])
        except MissingConfigException:
            return
        if not settings:
            return
        from pyspark.sql import SparkSession  # noqa: PLC0415 (only the spark environment needs it)

        builder = SparkSession.builder.appName(context.project_path.name)
        if os.environ.get("SPARK_REMOTE"):
            builder = builder.remote(os.environ["SPARK_REMOTE"])
            settings.pop("spark.master", None)
        elif str(settings.get("spark.master", "")).startswith("local"):
            # local mode: the Python workers (the segment model's predict) run this environment's
            # Python, where the project and scikit-learn are installed
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        for key, value in settings.items():
            builder = builder.config(key, value)
        spark = builder.getOrCreate()
        if not os.environ.get("SPARK_REMOTE"):  # a Connect session has no SparkContext
            spark.sparkContext.setLogLevel("WARN")
        logger.info("Spark %s session: %s", spark.version, settings.get("spark.master", "remote"))
