/* The Pod sandbox ("pause") process for the test bed: sleeps until SIGINT/SIGTERM and reaps zombies. Built static
 * (gcc -static) so that its image holds this one file. */
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>
static void die(int s){ (void)s; _exit(0); }
static void reap(int s){ (void)s; while (waitpid(-1, NULL, WNOHANG) > 0); }
int main(void){
  struct sigaction a = {0}; a.sa_handler = die; sigaction(SIGINT,&a,0); sigaction(SIGTERM,&a,0);
  struct sigaction c = {0}; c.sa_handler = reap; c.sa_flags = SA_NOCLDSTOP; sigaction(SIGCHLD,&c,0);
  for(;;) pause();
}
