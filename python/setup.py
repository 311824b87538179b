"""The compiled part of the package beside the library setuptools-rust
builds (pyproject.toml): KafkaProducer.send's common case in C
(kafka_instance/_speedups.c). Optional: without a C compiler or Python's
headers the package installs without it and runs the same steps in
Python (kafka_instance.connection.COMPILED says which)."""
from setuptools import Extension, setup

setup(ext_modules=[Extension("kafka_instance._speedups", ["kafka_instance/_speedups.c"],
                             extra_compile_args=["-std=c11", "-Wall", "-Wextra"],
                             optional=True)])
