"""The PySpark programs. Each job is a script for spark-submit; its map and reduce
functions are plain Python, tested against a plain-Python answer."""
