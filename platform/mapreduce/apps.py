from django.apps import AppConfig


class MapReduceConfig(AppConfig):
    name = "mapreduce"
    verbose_name = "Map-reduce jobs on Spark, and their results"
