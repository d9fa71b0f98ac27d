# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for AWX configuration (documented in the *.yml files here)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.baremetal.k8s.plugins.module_utils import awx_survey


def survey_filter(argument_spec, name, description="", include=None, exclude=None, *, only_with_default=False):
    try:
        spec, skipped = awx_survey.survey(
            argument_spec,
            name,
            description,
            include=include,
            exclude=exclude or (),
            only_with_default=bool(only_with_default),
        )
    except ValueError as err:
        raise AnsibleFilterError("awx_survey: %s" % err) from None
    if not spec["spec"]:
        return {"survey": None, "skipped": skipped}  # AWX refuses a survey without questions
    problems = awx_survey.validate(spec)
    if problems:
        raise AnsibleFilterError("awx_survey: AWX would refuse the survey: %s" % "; ".join(problems))
    return {"survey": spec, "skipped": skipped}


def read_yaml(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as err:
        raise AnsibleFilterError("awx_roles_run_by: cannot read %s: %s" % (path, err)) from None


def playbook_roles_filter(path):
    return awx_survey.playbook_roles(str(path), read_yaml)


def credential_type_filter(credential_type):
    problems = awx_survey.credential_type_problems(credential_type)
    if problems:
        raise AnsibleFilterError("awx_credential_type: AWX would refuse it: %s" % "; ".join(problems))
    return credential_type


def credential_conflicts_filter(credentials):
    return awx_survey.credential_conflicts(credentials)


class FilterModule(object):
    def filters(self):
        return {
            "awx_survey": survey_filter,
            "awx_roles_run_by": playbook_roles_filter,
            "awx_credential_type": credential_type_filter,
            "awx_credential_conflicts": credential_conflicts_filter,
        }
