/* The auxiliary vector: the entries the kernel (and qemu-user) always
 * provide, printed where their values are fixed facts (AT_PAGESZ,
 * AT_HWCAP for rv64gc, AT_PHENT, AT_PHNUM, AT_FLAGS, AT_BASE of a static
 * binary, AT_CLKTCK, AT_SECURE) and checked where they are addresses
 * (AT_RANDOM readable and not all zero, AT_PHDR pointing at our program
 * headers, AT_ENTRY at _start). */
#include <elf.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>

extern void _start(void);

int main(void) {
    printf("AT_PAGESZ %lu\n", getauxval(AT_PAGESZ));
    /* One bit per single-letter extension: I M A F D C for rv64gc. */
    unsigned long hwcap = getauxval(AT_HWCAP);
    printf("AT_HWCAP %#lx:", hwcap);
    for (int b = 0; b < 26; b++)
        if (hwcap & (1ul << b))
            printf(" %c", 'A' + b);
    printf("\n");
    printf("AT_PHENT %lu (sizeof Elf64_Phdr %zu)\n", getauxval(AT_PHENT), sizeof(Elf64_Phdr));
    printf("AT_PHNUM %lu\n", getauxval(AT_PHNUM));
    printf("AT_FLAGS %lu\n", getauxval(AT_FLAGS));
    printf("AT_BASE %lu\n", getauxval(AT_BASE));
    printf("AT_CLKTCK %lu\n", getauxval(AT_CLKTCK));
    printf("AT_SECURE %lu\n", getauxval(AT_SECURE));
    printf("AT_ENTRY is _start: %d\n", getauxval(AT_ENTRY) == (unsigned long)&_start);

    const unsigned char *rnd = (const unsigned char *)getauxval(AT_RANDOM);
    int nonzero = 0;
    if (rnd != NULL)
        for (int i = 0; i < 16; i++)
            nonzero |= rnd[i];
    printf("AT_RANDOM non-null %d, 16 bytes not all zero %d\n", rnd != NULL, nonzero != 0);

    /* AT_PHDR must point at this executable's program headers: find the
     * PT_LOAD that holds main. */
    const Elf64_Phdr *ph = (const Elf64_Phdr *)getauxval(AT_PHDR);
    unsigned long nph = getauxval(AT_PHNUM);
    int loads = 0, holds_main = 0;
    for (unsigned long i = 0; ph != NULL && i < nph; i++) {
        if (ph[i].p_type == PT_LOAD) {
            loads++;
            unsigned long m = (unsigned long)&main;
            if (m >= ph[i].p_vaddr && m < ph[i].p_vaddr + ph[i].p_memsz)
                holds_main = (ph[i].p_flags & PF_X) != 0;
        }
    }
    printf("AT_PHDR: %d PT_LOAD segments, executable one holds main %d\n", loads, holds_main);

    const char *execfn = (const char *)getauxval(AT_EXECFN);
    printf("AT_EXECFN present %d\n", execfn != NULL && execfn[0] != '\0');
    printf("unknown type 12345 -> %lu\n", getauxval(12345));
    return 0;
}
