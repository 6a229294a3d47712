from setuptools import find_packages, setup

setup(name="blg561", version="0.1", packages=find_packages())
