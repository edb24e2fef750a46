"""Contact with borrowers and the people around them. Today it holds the compliance seam every
outbound action goes through (`arrears.contact.guard`); templates, the outbox and channel
adapters come with the contact issue."""
