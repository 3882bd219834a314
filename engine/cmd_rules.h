/*
 * cmd_rules — the rule commands: `canbao rules check|test [DIR]` and `canbao explain ID`.
 * Each handler is main()-like: argv[0] is the command's name; returns the exit code.
 */
#ifndef CANBAO_CMD_RULES_H
#define CANBAO_CMD_RULES_H

int cmd_rules(int argc, char **argv);
int cmd_explain(int argc, char **argv);

#endif
