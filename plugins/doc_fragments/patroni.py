# -*- coding: utf-8 -*-
# Copyright: (c) baremetal.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options shared by the Patroni modules (their spec: module_utils.patroni.connection_argument_spec)
and the attributes both share."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  api_url:
    description:
      - Base URL of one member's REST API. The other members are reached at the C(api_url) that
        C(GET /cluster) lists for them, so those must be reachable from where the module runs.
    type: str
    default: http://127.0.0.1:8008
  username:
    description:
      - User for HTTP basic auth (Patroni's C(restapi.authentication)); needed for PATCH, PUT and restarts.
        Sent with every request (GETs do not need it).
      - Defaults to the E(PATRONI_RESTAPI_USERNAME) environment variable, which Patroni pods usually set.
    type: str
  password:
    description:
      - Password for HTTP basic auth. Defaults to E(PATRONI_RESTAPI_PASSWORD).
    type: str
  ca_path:
    description: CA bundle that signed the REST API certificate (HTTPS).
    type: path
  client_cert:
    description: Client certificate (PEM) when the REST API has C(verify_client) set.
    type: path
  client_key:
    description: Key of O(client_cert) when it is not inside the certificate file.
    type: path
  validate_certs:
    description: Verify the REST API certificate and host name.
    type: bool
    default: true
  use_proxy:
    description:
      - Send the requests through the proxy named by E(http_proxy), E(https_proxy) and E(no_proxy).
      - Off by default, so proxy variables in the environment (of the controller or of a pod) never route the
        REST calls, and the basic-auth credentials in them, through a proxy.
    type: bool
    default: false
  timeout:
    description: Seconds to wait for one REST call.
    type: int
    default: 10
"""
