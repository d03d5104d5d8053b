/* SPDX-License-Identifier: Apache-2.0 */
/* Placeholder until the module's tests land; fails so it cannot pass. */
#include "config.h"
int main(void) { return 99; }
