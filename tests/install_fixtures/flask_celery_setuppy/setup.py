from setuptools import setup

setup(
    name="shop",
    version="1.0",
    py_modules=["web", "worker"],
    install_requires=[
        "flask>=3",
        "celery>=5",
    ],
)
