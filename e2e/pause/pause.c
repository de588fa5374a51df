/* The pod sandbox's process (what registry.k8s.io/pause does): hold the pod's namespaces, reap
 * orphaned children, and exit 0 on SIGTERM/SIGINT. Built with gcc -static by e2e/lib/images.sh. */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void stop(int sig) { (void)sig; _exit(0); }
static void reap(int sig) { (void)sig; while (waitpid(-1, NULL, WNOHANG) > 0) {} }

int main(void) {
  signal(SIGTERM, stop);
  signal(SIGINT, stop);
  signal(SIGCHLD, reap);
  for (;;) pause();
  return 0;
}
