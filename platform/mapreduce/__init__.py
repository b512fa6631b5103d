"""Map-reduce on Apache Spark: the article's off-line work too big for ad hoc SQL.

    cron -> RabbitMQ (analytics queue) -> the analytics consumer (mapreduce.tasks)
         -> spark-submit to the Spark master (mapreduce.submit)
         -> the job reads the read pool, maps and reduces on the Spark workers, and
            writes its rows to the write pool (mapreduce/spark)
         -> the run turns succeeded in one transaction (mapreduce.runs)
         -> the platform serves the results (mapreduce.results)

The Spark programs under mapreduce/spark import nothing of Django: they run on any
Spark cluster given its master URL.
"""
