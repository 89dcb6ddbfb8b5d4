# SPDX-License-Identifier: GPL-2.0-or-later
#
# /test/main.sh of the kernel suite: run the scenarios named in $T_SCENARIOS
# (files /test/scenarios/NAME.sh), each in a subshell with T_PREFIX=NAME.
# Set by tests/kernel/run.sh through /test/env: T_SCENARIOS, T_KERNEL
# (patched|unpatched).

echo "guest: kernel variant ${T_KERNEL:-?}, scenarios: $T_SCENARIOS"
for s in $T_SCENARIOS; do
	echo "guest: --- scenario $s ---"
	if [ ! -r "/test/scenarios/$s.sh" ]; then
		t_fail "$s" "no scenario file /test/scenarios/$s.sh"
		continue
	fi
	(
		T_PREFIX=$s
		. "/test/scenarios/$s.sh"
	) || t_fail "$s" "scenario script exited with status $?"
done
