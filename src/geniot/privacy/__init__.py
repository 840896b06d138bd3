"""L3: privacy. DP-SGD training of generators, privacy audits of synthetic data, attribute obfuscation.

* :class:`DPGenerator` wraps a torch generator and trains it with DP-SGD (Opacus, imported
  lazily; ``pip install 'geniot[federated]'``), recording the (epsilon, delta) spent.
* :func:`audit_privacy` measures what synthetic windows reveal about the windows a generator was
  trained on: a membership-inference attack against held-out real windows, distances to the
  closest record and nearest-neighbour distance ratios, and a verdict.
* :class:`AttributeObfuscator` releases windows from which a private attribute (e.g. the asset)
  can no longer be predicted; :func:`attribute_leakage` measures that with an attacker classifier.
* :mod:`geniot.privacy.accounting` is an independent RDP accountant used to cross-check Opacus.

Importing this package registers ``"dp"`` in the generator registry.
"""

from geniot.privacy.accounting import epsilon_spent, noise_for_epsilon, rdp_sampled_gaussian
from geniot.privacy.audit import audit_privacy, membership_inference_auc
from geniot.privacy.dp_generator import DPGenerator
from geniot.privacy.obfuscation import AttributeObfuscator, attribute_leakage

__all__ = [
    "AttributeObfuscator",
    "DPGenerator",
    "attribute_leakage",
    "audit_privacy",
    "epsilon_spent",
    "membership_inference_auc",
    "noise_for_epsilon",
    "rdp_sampled_gaussian",
]
