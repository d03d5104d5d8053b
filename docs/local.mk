# SPDX-License-Identifier: Apache-2.0
dist_man_MANS += docs/receiptctl.1 docs/receiptd.8 docs/receiptd.conf.5
EXTRA_DIST += docs/ARCHITECTURE.md docs/STYLE.md docs/SPEC.md docs/keys.md \
	docs/hardening.md docs/threat-model.md
