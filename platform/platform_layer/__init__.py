"""The platform layer: one crisp API in front of Postgres, Redis and RabbitMQ.

The package is not called ``platform`` because that name belongs to the
standard library module of the same name.
"""
