"""Reading from and writing to Postgres with Spark's JDBC source, on the driver.

The job reads from the read pool (the replica: a long scan never loads the primary)
in partitions, one range of ids each, read in parallel by the executors; it writes
to the write pool. Settings come from the platform's own environment variables.
"""

import os
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession

DRIVER = "org.postgresql.Driver"


@dataclass(frozen=True)
class Postgres:
    read_url: str
    write_url: str
    user: str
    password: str

    @classmethod
    def from_env(cls) -> "Postgres":
        host, db = os.environ.get("POSTGRES_HOST", "postgres"), os.environ["POSTGRES_DB"]
        write_port = os.environ.get("POSTGRES_PORT", "5432")
        read_port = os.environ.get("POSTGRES_READ_PORT", write_port)
        return cls(
            read_url=f"jdbc:postgresql://{host}:{read_port}/{db}",
            # One multi-row INSERT per batch instead of one statement a row.
            write_url=f"jdbc:postgresql://{host}:{write_port}/{db}?reWriteBatchedInserts=true",
            user=os.environ["POSTGRES_USER"],
            password=os.environ["POSTGRES_PASSWORD"],
        )

    def _options(self) -> dict[str, str]:
        return {"user": self.user, "password": self.password, "driver": DRIVER}

    def read(self, spark: SparkSession, query: str, column: str, partitions: int) -> DataFrame:
        """The rows of `query`, read in `partitions` ranges of its integer `column`."""
        bounds = (
            spark.read.format("jdbc")
            .options(
                url=self.read_url, query=f"SELECT min({column}) AS lo, max({column}) AS hi FROM ({query}) q"
            )
            .options(**self._options())
            .load()
            .first()
        )
        low, high = (bounds["lo"], bounds["hi"]) if bounds and bounds["lo"] is not None else (0, 0)
        return (
            spark.read.format("jdbc")
            .options(url=self.read_url, dbtable=f"({query}) AS input", fetchsize="10000")
            .options(partitionColumn=column, lowerBound=str(low), upperBound=str(high + 1))
            .options(numPartitions=str(partitions))
            .options(**self._options())
            .load()
        )

    def append(self, frame: DataFrame, table: str) -> None:
        """Append the rows to `table`, whose columns are the frame's."""
        frame.write.format("jdbc").options(url=self.write_url, dbtable=table, batchsize="5000").options(
            **self._options()
        ).mode("append").save()
