/* uname: only the fields that do not depend on the host kernel or name,
 * sysname and machine, plus that the others are NUL-terminated strings. */
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

int main(void) {
    struct utsname u;
    memset(&u, 0xff, sizeof u);
    int rc = uname(&u);
    printf("uname rc %d\n", rc);
    printf("sysname '%s'\n", u.sysname);
    printf("machine '%s'\n", u.machine);
    printf("terminated: nodename %d release %d version %d\n",
           memchr(u.nodename, '\0', sizeof u.nodename) != NULL,
           memchr(u.release, '\0', sizeof u.release) != NULL,
           memchr(u.version, '\0', sizeof u.version) != NULL);
    printf("release non-empty %d\n", u.release[0] != '\0');
    return 0;
}
