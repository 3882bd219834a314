/*
 * cmd — the canbao subcommands beyond `run`, each a main()-like handler in its own file:
 * argv[0] is the command's name; returns the process exit code.
 */
#ifndef CANBAO_CMD_H
#define CANBAO_CMD_H

int cmd_runs(int argc, char **argv);     /* cmd_ops.c */
int cmd_status(int argc, char **argv);   /* cmd_ops.c */

#endif
