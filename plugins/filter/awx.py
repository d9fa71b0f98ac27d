# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for AWX configuration (documented in the *.yml files here)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.baremetal.k8s.plugins.module_utils import awx_survey


def _awx_survey(argument_spec, name, description="", include=None, exclude=None):
    try:
        spec, skipped = awx_survey.survey(argument_spec, name, description, include=include, exclude=exclude or ())
    except ValueError as err:
        raise AnsibleFilterError("awx_survey: %s" % err) from None
    problems = awx_survey.validate(spec)
    if problems:
        raise AnsibleFilterError("awx_survey: AWX would refuse the survey: %s" % "; ".join(problems))
    return {"survey": spec, "skipped": skipped}


class FilterModule(object):
    def filters(self):
        return {"awx_survey": _awx_survey}
