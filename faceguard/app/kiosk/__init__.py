"""The kiosk's engine, free of Qt: newest-frame hand-over, face tracking, and frame → decision."""
