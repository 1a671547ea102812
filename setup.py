"""Packages are found, never listed by hand, so that a new area ships without a line here.

``templates/`` and ``migrations/`` live at the top of the repository and ship inside the package as
``surveyapp/templates`` and ``surveyapp/migrations``, so that a non-editable install serves them
too. setup.cfg's ``packages = find:`` cannot add such mapped folders, hence this file; everything
else is in setup.cfg."""
from setuptools import find_packages, setup

MAPPED = {
    "surveyapp.templates": "templates",
    "surveyapp.migrations": "migrations",
    "surveyapp.migrations.versions": "migrations/versions",
}

setup(packages=find_packages(include=["surveyapp", "surveyapp.*", "analysis", "analysis.*"]) + list(MAPPED),
      package_dir=MAPPED)
