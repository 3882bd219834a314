#include "lists.h"

#include <string.h>

void
lists_free(ListSet *ls)
{
    for (int i = 0; i < ls->n; i++)
        vec_free(&ls->lists[i].rows);
    if (ls->arena.chunk_size)
        arena_free(&ls->arena);
    memset(ls, 0, sizeof *ls);
}
