"""fuelrl.agents"""
