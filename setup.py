"""Packaging for cdf-replicator and the bundled CDF emulator."""

import re
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).parent
VERSION = re.search(r'__version__ = "([^"]+)"', (HERE / "lib/cdf_replicator/__init__.py").read_text()).group(1)

# Tested versions. pyspark 3.5 + delta-spark 3.3 is the EMR 7 / Databricks 15.4-16.4 LTS line.
RUNTIME = [
    "cognite-sdk==8.22.0",
    "pyyaml>=6.0,<7",
    "boto3>=1.34,<2",
    "pyarrow>=14",
]
SPARK = [
    "pyspark==3.5.8",
    "delta-spark==3.3.2",
    "pandas>=2.0,<2.3",
]
DEV = SPARK + [
    "pytest==9.2.0",
    "pytest-timeout==2.4.0",
    "chispa==0.12.0",
    "moto[server]==5.2.5",
    "jsonschema==4.26.0",
    "ruff==0.17.6",
    "mypy==2.4.1",
    "types-PyYAML",
    "tableauhyperapi==0.0.26963",
]

setup(
    name="cdf-replicator",
    version=VERSION,
    description="Replicate Cognite Data Fusion data-modeling instances into Delta Lake and publish Parquet for BI",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    package_dir={"": "lib"},
    packages=["cdf_replicator", "cdf_emulator", "cdf_emulator.seeds"],
    include_package_data=True,
    package_data={"cdf_replicator": ["py.typed"], "cdf_emulator": ["py.typed"]},
    install_requires=RUNTIME,
    # On Databricks and EMR the platform provides Spark and Delta; install [spark] only elsewhere.
    extras_require={"spark": SPARK, "dev": DEV},
    entry_points={
        "console_scripts": [
            "cdf-replicator=cdf_replicator.cli:main",
            "cdf-emulator=cdf_emulator.cli:main",
        ]
    },
)
