/* The stand-in for Kubernetes' nonewprivs test image: installed setuid root, it prints
 * the effective uid it runs with ("Effective uid: 0" unless no_new_privs stopped the
 * setuid bit from taking effect). Built statically by scripts/cri-test-images. */
#include <stdio.h>
#include <unistd.h>

int main(void) {
    printf("Effective uid: %d\n", (int)geteuid());
    return 0;
}
