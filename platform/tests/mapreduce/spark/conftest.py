"""Spark in local mode, in the analytics image (make test-unit runs these there): the
same map and reduce functions the cluster runs, on small inputs built in the test."""

import logging

import pytest
from pyspark.sql import SparkSession

# py4j says goodbye at INFO from a finalizer, after pytest has closed the stream it
# logged to: a "Logging error" traceback at the end of every run otherwise.
logging.getLogger("py4j").setLevel(logging.WARNING)


@pytest.fixture(scope="session")
def spark():
    session = (
        SparkSession.builder.master("local[2]")
        .appName("tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    yield session
    session.stop()
