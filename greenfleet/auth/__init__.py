"""Request authentication shared by the faces and the data plane (AWS SigV4)."""
