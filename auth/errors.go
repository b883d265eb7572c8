package auth

// InvalidError is bad input in one field, with a reason written for the person who entered it.
type InvalidError struct {
	// Field names the input ("username", "name", "role", "code").
	Field string
	// Reason is a sentence shown next to the field; it never repeats the value.
	Reason string
}

// Error returns "invalid <field>: <reason>".
func (e *InvalidError) Error() string { return "invalid " + e.Field + ": " + e.Reason }
