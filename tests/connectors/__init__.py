"""Tests of pipelines/connectors: the framework, the landing zone, replay, doctor."""
