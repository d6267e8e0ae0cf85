"""Sensor data in the OGC SensorThings API 1.1 model: the store (Things, Datastreams,
Observations, aggregates, rejected input), its catalogue datasets and its read-only API."""
