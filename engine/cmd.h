/*
 * cmd — the canbao subcommands beyond `run`, each a main()-like handler in its own file:
 * argv[0] is the command's name; returns the process exit code.
 */
#ifndef CANBAO_CMD_H
#define CANBAO_CMD_H

int cmd_runs(int argc, char **argv);     /* cmd_ops.c */
int cmd_status(int argc, char **argv);   /* cmd_ops.c */
int cmd_feedback(int argc, char **argv); /* cmd_feedback.c: a township's returned workbook */
int cmd_ack(int argc, char **argv);      /* cmd_feedback.c: the pension system's acknowledgements */
int cmd_verify(int argc, char **argv);   /* cmd_package.c: a township package's signature */
int cmd_decrypt(int argc, char **argv);  /* cmd_package.c: a township package's files */
int cmd_package(int argc, char **argv);  /* cmd_package.c: a night's township packages, again */
int cmd_pseudonymise(int argc, char **argv); /* cmd_package.c: pseudonymised statistics of a run */

#endif
