// OpenBLAS's CBLAS interface and its thread control (Debian installs it under openblas-pthread).
#include <cblas.h>
