#include "lists.h"

#include <string.h>

void
lists_free(ListSet *ls)
{
    for (int i = 0; i < ls->n; i++)
        vec_free(&ls->lists[i].rows);
    if (ls->arena.chunk_size)
        arena_free(&ls->arena);
    for (size_t i = 0; i < ls->arenas.len; i++)
        arena_free(&VEC_AT(&ls->arenas, Arena, i));
    vec_free(&ls->arenas);
    memset(ls, 0, sizeof *ls);
}

void
lists_adopt(ListSet *ls, ListSet *from)
{
    if (ls->arenas.elem == 0)
        vec_init(&ls->arenas, sizeof(Arena));
    *(Arena *) vec_push(&ls->arenas) = from->arena;
    memset(&from->arena, 0, sizeof from->arena);
    lists_free(from);
}
