/* Wine 8 (Debian 12) lacks bcryptprimitives.dll, which Rust's standard library imports for
 * ProcessPrng since 1.78. For the Windows tier under Wine only (tests/harness/wine-run): ProcessPrng over RtlGenRandom. */
#include <windows.h>
#define SystemFunction036 NTAPI SystemFunction036
#include <ntsecapi.h>
#undef SystemFunction036
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    return RtlGenRandom(data, (ULONG)len);
}
