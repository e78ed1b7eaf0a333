// SPDX-License-Identifier: Apache-2.0
// Startup benchmark guest: does nothing.
int main(void) { return 0; }
