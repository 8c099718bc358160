/** Names of the ops and attrs the freezer introduces (they never come from TensorFlow). */

/** Stands for a captured resource while freezing: attr `key` = checkpoint key. Never exported. */
export const RESOURCE_MARKER_OP = '_TfmResource';

/** Reads a variable that the graph also assigns: attr `variable` (checkpoint key). Extra inputs only order it. */
export const READ_VARIABLE_OP = '_TfmReadVariable';
/** Assigns/adds/subtracts input 0 to a variable and returns the new value: attrs `variable`, `mode`. */
export const ASSIGN_VARIABLE_OP = '_TfmAssignVariable';
/** Returns input 0 once every other input has been computed: orders side effects. */
export const AFTER_OP = '_TfmAfter';

export type AssignMode = 'assign' | 'add' | 'sub';

/** Attr naming the checkpoint key on variable reads, assigns and variable Consts. */
export const VARIABLE_ATTR = 'variable';

/** Name of the Const node holding a variable's value (the same in every body that reads it). */
export const variableConstName = (key: string): string => `_tfm_variables/${key}`;
